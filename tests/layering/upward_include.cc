// Must NOT compile: the common layer including a header of a higher layer (cli). CTest test
// "layering_upward_include_fails" builds this and passes only on the expected include error.
#include "cli/app.h"

int UpwardIncludeProbe() { return 0; }
