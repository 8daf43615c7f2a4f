#pragma once
// The installed library's front door: `#include <lastack/lastack.hpp>` after
// find_package(lastack) and linking lastack::lastack. Everything is in harness/lastack.hpp.
#include "harness/lastack.hpp"
