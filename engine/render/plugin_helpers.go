package render

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"switchboard/engine"
)

// helperSet holds the plugins' helpers of one Renderer
// (Options.PluginHelpers). The built-in helpers are looked up first.
type helperSet map[string]helper

func (hs helperSet) lookup(name string) (helper, bool) {
	if h, ok := helpers[name]; ok {
		return h, true
	}
	h, ok := hs[name]
	return h, ok
}

// isHelper reports whether templates can call name as a helper.
func (hs helperSet) isHelper(name string) bool {
	_, ok := hs.lookup(name)
	return ok || builtins[name] != notBuiltin
}

// reHelperName is a plugin helper's name, "<plugin ID>_<name>": only one
// underscore, so one plugin's names never fall in another's namespace.
var reHelperName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,63}_[A-Za-z][A-Za-z0-9]{0,63}$`)

// pluginHelpers checks the plugins' helpers and makes them callable. A
// name that is a built-in helper's, lies outside the plugin's namespace,
// or is not a plain name is an error naming the plugin and the helper.
func pluginHelpers(byPlugin map[string]map[string]engine.Helper) (helperSet, error) {
	out := helperSet{}
	for _, id := range slices.Sorted(maps.Keys(byPlugin)) {
		for _, name := range slices.Sorted(maps.Keys(byPlugin[id])) {
			h := byPlugin[id][name]
			if err := checkPluginHelper(id, name, h); err != nil {
				return nil, fmt.Errorf("render: plugin %s's helper %q: %w", id, name, err)
			}
			out[name] = pluginHelper(name, h)
		}
	}
	return out, nil
}

func checkPluginHelper(id, name string, h engine.Helper) error {
	if _, ok := helpers[name]; ok || builtins[name] != notBuiltin {
		return fmt.Errorf("it would replace the built-in helper %q; name it %s_%s", name, id, name)
	}
	if !strings.HasPrefix(name, id+"_") {
		if owner, _, found := strings.Cut(name, "_"); found {
			return fmt.Errorf("the name is in plugin %s's namespace, not %s's; name it %s_<name>", owner, id, id)
		}
		return fmt.Errorf("a plugin's helper is named %s_<name>", id)
	}
	if !reHelperName.MatchString(name) {
		return fmt.Errorf("after %s_ comes a letter, then letters and digits (64 at most); a plugin ID of letters, digits and hyphens", id)
	}
	if h.Args < 0 || h.Args > maxArgs {
		return fmt.Errorf("takes %d arguments; a helper takes 0 to %d", h.Args, maxArgs)
	}
	if h.Text == nil {
		return fmt.Errorf("has no Text function")
	}
	return nil
}

// pluginHelper wraps a plugin's helper: its arguments as Go values, a
// panic as a render error naming it.
func pluginHelper(name string, h engine.Helper) helper {
	return textHelper(h.Args, func(c call) (text string) {
		args := make([]any, h.Args)
		for i := range args {
			args[i] = c.arg(i)
		}
		defer func() {
			if p := recover(); p != nil {
				fail("helper %s failed: %v", name, p)
			}
		}()
		return h.Text(args...)
	})
}
