#include "sub/api.h"
#include "./sub/api.h"
#include "sub/../sub/api.h"
#include <sub/api.h>
#include <api.h>
#include "../outside/api.h"
