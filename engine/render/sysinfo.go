package render

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"switchboard/engine/beyondtrust"
)

// Limits of a system information table whose rows read well one per line.
const (
	oneLineColumns = 4
	oneLineWidth   = 80
)

// systemInfo turns one category's table into the template model: each row
// paired with the column labels, and laid out once on one line and once as
// a block, so that a template can show every row without building text.
func systemInfo(c beyondtrust.SystemInfoCategory) SystemInfoCategory {
	cat := SystemInfoCategory{Name: c.Name}
	for i, col := range c.Columns {
		cat.Columns = append(cat.Columns, SystemInfoColumn{Code: col.Code, Label: columnLabel(col, i)})
	}
	narrow := len(c.Columns) <= oneLineColumns
	for _, values := range c.Rows {
		row := SystemInfoRow{Fields: make([]SystemInfoField, 0, max(len(values), len(c.Columns)))}
		var line, block []string
		for i := range max(len(values), len(c.Columns)) {
			var f SystemInfoField
			if i < len(cat.Columns) {
				f.Code, f.Label = cat.Columns[i].Code, cat.Columns[i].Label
			} else {
				f.Label = columnLabel(beyondtrust.SystemInfoColumn{}, i)
			}
			if i < len(values) {
				f.Value = values[i]
			}
			row.Fields = append(row.Fields, f)
			if f.Value != "" {
				line = append(line, f.Label+": "+f.Value)
				block = append(block, f.Label+": "+f.Value)
			}
		}
		if len(block) == 0 {
			continue // nothing to show
		}
		row.Block = strings.Join(block, "\n")
		if len(row.Fields) == 1 {
			row.Text = row.Fields[0].Value
		} else {
			row.Text = strings.Join(line, " | ")
		}
		if strings.Contains(row.Text, "\n") || utf8.RuneCountInString(row.Text) > oneLineWidth {
			narrow = false
		}
		cat.Rows = append(cat.Rows, row)
	}
	// A single row reads best as a block of "Label: value" lines, even of
	// one value; several rows of one value each, or of a few short ones, as
	// a list of lines.
	cat.OneLine = len(cat.Rows) > 1 && (len(cat.Columns) <= 1 || narrow)
	return cat
}

// columnLabel is a column's label; a header given only by its code (the
// reference allows self-closing <field name="Name"/>) is labelled with the
// code, and a missing one by its place.
func columnLabel(col beyondtrust.SystemInfoColumn, i int) string {
	switch {
	case col.Label != "":
		return col.Label
	case col.Code != "":
		return col.Code
	}
	return "Column " + strconv.Itoa(i+1)
}
