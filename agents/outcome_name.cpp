#include "agents/outcome_name.hpp"

namespace lastack {

std::string outcome_name(const boost::system::error_code& ec) {
  if (!ec) return "ok";
  if (ec == asio::error::eof) return "eof";
  if (ec.category() == boost::system::system_category()) return errno_name(ec.value());
  return ec.message();
}

StepResult step_result(const boost::system::error_code& ec, int& err) {
  err = 0;
  if (!ec) return StepResult::ok;
  if (ec == asio::error::eof) return StepResult::eof;
  if (ec.category() == boost::system::system_category()) err = ec.value();
  return StepResult::error;
}

}  // namespace lastack
