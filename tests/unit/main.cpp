// Catch2 v2 main for the unit tier (no privileges).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
