// connectors/net/beast_impl.cpp — the one translation unit that compiles Boost.Asio,
// Asio's SSL layer and Boost.Beast (separate compilation: every other file sees only their
// declarations, which keeps each of them fast to build).
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
