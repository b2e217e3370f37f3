// connectors/net/tls.h — TLS options shared by the WebSocket and HTTPS clients.
#pragma once

#include <absl/status/status.h>

#include <string>

namespace obr::net {

// TlsOptions: peer verification is on by default (against the system CA store, plus
// `ca_file` when set — e.g. the simulator's self-signed certificate). Turning it off is for
// diagnosis only and is reported in the connection's log line.
struct TlsOptions {
  bool verify_peer = true;
  std::string ca_file;  // PEM; empty: system CAs only
};

// check_ca_file: OK when `path` is empty or a readable file holding at least one PEM
// certificate; InvalidArgument naming the path and what is wrong otherwise. Checked before
// connecting, so that a wrong path is an error at start, not a reconnect loop.
absl::Status check_ca_file(const std::string& path);

}  // namespace obr::net
