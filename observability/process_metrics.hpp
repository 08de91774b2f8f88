// The standard process_* metrics of Prometheus client libraries, read from /proc at scrape time.
#pragma once

namespace eventhub::metrics {

/// Registers process_resident_memory_bytes, process_virtual_memory_bytes,
/// process_cpu_seconds_total, process_open_fds, process_threads and process_start_time_seconds.
void register_process_metrics();

} // namespace eventhub::metrics
