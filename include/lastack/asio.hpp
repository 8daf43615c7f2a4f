#pragma once
// Include Asio through here: Boost 1.74's asio/awaitable.hpp uses std::exchange without
// including <utility>, which g++ 12 no longer pulls in transitively.
#include <utility>

#include <boost/asio.hpp>

namespace asio = boost::asio;
