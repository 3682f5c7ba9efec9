#include "other.h"
#include "plain.h"
