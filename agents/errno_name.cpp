#include "agents/errno_name.hpp"

#include <string.h>

namespace lastack {

std::string errno_name(int err) {
  // glibc 2.32+: the macro name itself, so reports match what a policy's `sees` says.
  if (const char* name = ::strerrorname_np(err)) return name;
  return "errno " + std::to_string(err);
}

std::string outcome_name(const boost::system::error_code& ec) {
  if (!ec) return "ok";
  if (ec == asio::error::eof) return "eof";
  if (ec.category() == boost::system::system_category()) return errno_name(ec.value());
  return ec.message();
}

}  // namespace lastack
