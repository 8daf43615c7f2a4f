#pragma once
// The running kernel's build configuration, as it publishes it (/proc/config.gz, else
// /boot/config-RELEASE): what a run needs to know and no unprivileged interface reports.
#include <optional>

namespace lastack::sys {

/// CONFIG_HZ, the kernel's timer tick rate: one jiffy is 1/HZ s. nullopt when the kernel
/// publishes no configuration.
std::optional<unsigned> kernel_hz();

}  // namespace lastack::sys
