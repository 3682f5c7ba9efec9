const char *r = R"x(async_a)x";
