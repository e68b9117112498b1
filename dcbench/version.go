package dcbench

import "runtime/debug"

// Version is the dcbench release; Commit adds the VCS revision when the binary was built
// from a git checkout.
const Version = "0.1.0-dev"

// Commit returns the VCS revision the running binary was built from, or "" if unknown.
func Commit() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev == "" {
		return ""
	}
	return rev + dirty
}
