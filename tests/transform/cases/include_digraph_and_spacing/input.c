%:include "other.h"
#  include   "other.h"
  # include <other.h> /* c */
