#include <unasync/async.h>
#include "unasync/async.h"
#include <unasync/async.hpp>
#include <stdio.h>
