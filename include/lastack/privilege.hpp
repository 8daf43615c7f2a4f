#pragma once
// How this process gets the right to build labs: real root, or uid 0 inside its own user
// namespace (so lastack runs without sudo).
#include <string_view>

namespace lastack::sys {

enum class PrivilegeMode {
  root,            // the initial user namespace, with CAP_SYS_ADMIN and CAP_NET_ADMIN
  user_namespace,  // uid 0 only inside a user namespace: no tracefs, no host-wide sysctls
};

/// Make this process able to build labs; call first thing in main, while single-threaded.
/// As root: verify CAP_SYS_ADMIN and CAP_NET_ADMIN. Otherwise: enter a new user, mount and
/// network namespace (uid/gid 0 inside; the process loses the host's network) with a private
/// tmpfs on /run for iptables' lock file.
/// Idempotent. Throws EnvironmentError when neither is possible.
PrivilegeMode enter_lab_privileges();

/// The mode this process is in (after enter_lab_privileges): root when its user namespace is
/// the initial one.
PrivilegeMode current_privilege_mode();

/// "root" or "user namespace", for reports.
std::string_view privilege_mode_name(PrivilegeMode mode);

}  // namespace lastack::sys
