#include "cli/app.h"

int main(int argc, char** argv) { return drctl::cli::Main(argc, argv); }
