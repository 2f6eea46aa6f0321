// The drctl command line: global options, subcommands, and the mapping of errors to exit codes.
#pragma once

namespace drctl::cli {

// Runs drctl with the process arguments; returns the process exit code.
int Main(int argc, char** argv);

}  // namespace drctl::cli
