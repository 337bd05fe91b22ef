package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// TemplateVersion is one saved version of a report template: the newest
// row of a set and name serves, unless it is a revert. Set "" holds the
// overrides of every configuration.
type TemplateVersion struct {
	ID        int64  `gorm:"primaryKey"`
	SetName   string `gorm:"column:set_name"`
	Name      string
	Body      string
	Reverted  bool
	Actor     string
	CreatedAt int64 `gorm:"autoCreateTime:false"`
}

// TableName maps TemplateVersion to its table.
func (TemplateVersion) TableName() string { return "template_versions" }

// Created is when the version was saved.
func (v *TemplateVersion) Created() time.Time { return fromMS(v.CreatedAt) }

// SaveTemplateVersion stores v as the newest version of its template
// together with its audit entry, and sets v.ID and v.CreatedAt.
func (s *Store) SaveTemplateVersion(ctx context.Context, v *TemplateVersion, audit AuditEntry) error {
	now := ms(time.Now())
	v.ID, v.CreatedAt = 0, now
	return s.writeTx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(v).Error; err != nil {
			return fmt.Errorf("store: save template %s/%s: %w", v.SetName, v.Name, err)
		}
		return insertAudit(tx, audit, now)
	})
}

// ServingTemplates returns the newest version of every saved template, in
// id order, reverts included (a revert hides the files below it).
func (s *Store) ServingTemplates(ctx context.Context) ([]TemplateVersion, error) {
	var out []TemplateVersion
	err := s.r.WithContext(ctx).
		Where("id IN (SELECT MAX(id) FROM template_versions GROUP BY set_name, name)").
		Order("id").Find(&out).Error
	if err != nil {
		return nil, unavailable(fmt.Errorf("store: saved templates: %w", err))
	}
	return out, nil
}

// TemplatesStamp changes whenever a template is saved or reverted: engines
// sharing a database compare it to learn that another one saved. It
// counts the rows (none is ever deleted), which, unlike the newest id,
// also moves when a transaction with a lower id commits last.
func (s *Store) TemplatesStamp(ctx context.Context) (int64, error) {
	var n int64
	if err := s.r.WithContext(ctx).Model(&TemplateVersion{}).Count(&n).Error; err != nil {
		return 0, unavailable(fmt.Errorf("store: saved templates: %w", err))
	}
	return n, nil
}

// TemplateHistory returns the newest versions of one template first, at
// most limit of them.
func (s *Store) TemplateHistory(ctx context.Context, set, name string, limit int) ([]TemplateVersion, error) {
	var out []TemplateVersion
	err := s.r.WithContext(ctx).Where("set_name = ? AND name = ?", set, name).
		Order("id DESC").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, unavailable(fmt.Errorf("store: history of template %s/%s: %w", set, name, err))
	}
	return out, nil
}

// TemplateVersionByID returns one version of a template.
func (s *Store) TemplateVersionByID(ctx context.Context, id int64) (*TemplateVersion, error) {
	var v TemplateVersion
	if err := s.r.WithContext(ctx).First(&v, id).Error; err != nil {
		return nil, unavailable(notFound(err, "template version", id))
	}
	return &v, nil
}
