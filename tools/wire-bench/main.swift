// wire-bench: ns per operation for the wire formats on the packet path, each beside an
// in-process baseline so the figures survive a noisy machine (docs/PERFORMANCE.md).
//
//   swift build -c release --product wire-bench && .build/release/wire-bench [--quick]
//
// Inputs are a ring of 64 distinct packets so nothing can be hoisted out of the loop; every
// result feeds a checksum that is printed, so nothing can be optimised away.

WireBench.run(quick: CommandLine.arguments.contains("--quick"))
