# The layers, bottom up: each is a static library built from its folders, linking only the layer
# below it, and cmake/check_layers.cmake fails the build on an include that points upward
# (docs/design.md, "Layout"). One table, read by both.
#
#   layer   folders                                   public headers it owns (include/lastack/)
set(LASTACK_LAYERS base wire policy trace decide oracle record report sys agents engine cli)
set(LASTACK_LAYER_base_DIRS harness/core/base)
set(LASTACK_LAYER_base_PUBLIC clock connection_number duration error netstat)
set(LASTACK_LAYER_wire_DIRS harness/core/wire)
set(LASTACK_LAYER_wire_PUBLIC seq segment roles side_ref flow_tracker tcp_state per_side)
set(LASTACK_LAYER_policy_DIRS harness/core/policy)
set(LASTACK_LAYER_policy_PUBLIC policy policy_parser)
set(LASTACK_LAYER_trace_DIRS harness/core/trace)
set(LASTACK_LAYER_trace_PUBLIC trace pending)
set(LASTACK_LAYER_decide_DIRS harness/core/decide)
set(LASTACK_LAYER_decide_PUBLIC capture)
set(LASTACK_LAYER_oracle_DIRS harness/core/oracle harness/core/oracle/expect harness/core/oracle/words)
set(LASTACK_LAYER_oracle_PUBLIC oracle finding finding_endpoints finding_invariants timing_bound)
set(LASTACK_LAYER_record_DIRS harness/core/record)
set(LASTACK_LAYER_record_PUBLIC trace_jsonl)
set(LASTACK_LAYER_report_DIRS harness/core/report)
set(LASTACK_LAYER_report_PUBLIC report ladder)
set(LASTACK_LAYER_sys_DIRS harness/sys/net harness/sys/observe harness/sys/proc)
set(LASTACK_LAYER_sys_PUBLIC asio privilege)
set(LASTACK_LAYER_agents_DIRS agents)
set(LASTACK_LAYER_agents_PUBLIC)
set(LASTACK_LAYER_engine_DIRS harness/engine)
set(LASTACK_LAYER_engine_PUBLIC run in_process policy_library lastack)
set(LASTACK_LAYER_cli_DIRS harness/cli)
set(LASTACK_LAYER_cli_PUBLIC)
# The pure core: these layers make no syscalls, so they include only the C++ library, fmt,
# nlohmann/json, toml++ and two libc headers with no I/O (checked with the includes).
set(LASTACK_PURE_LAYERS base wire policy trace decide oracle record report)
