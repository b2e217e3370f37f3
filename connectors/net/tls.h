// connectors/net/tls.h — TLS options shared by the WebSocket and HTTPS clients.
#pragma once

#include <string>

namespace obr::net {

// TlsOptions: peer verification is on by default (against the system CA store, plus
// `ca_file` when set — e.g. the simulator's self-signed certificate). Turning it off is for
// diagnosis only and is reported in the connection's log line.
struct TlsOptions {
  bool verify_peer = true;
  std::string ca_file;  // PEM; empty: system CAs only
};

}  // namespace obr::net
