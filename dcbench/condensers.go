package dcbench

// Condensation methods register themselves here, so that Condense finds them by name. Each
// lives in its own package under dcbench/condensers (K-Center, Herding, DM, DC/DSA, ...);
// adding one is a line in init.
func init() {
	RegisterCondenser(Random{})
}
