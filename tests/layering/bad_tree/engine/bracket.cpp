// A planted violation after a lone "[" in a string, which once fused the rest of the file
// into one list element and hid this include from the check.
const char* usage = "a range [0, 1e6)";
#include "connectors/kraken/v2_session.h"
