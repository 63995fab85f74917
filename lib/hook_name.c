/* STUB: replaced by the source-port pinning work (getsockname, listen). */
#include "pin.h"
