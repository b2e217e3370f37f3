// A planted violation: the engine branching on a venue's name, after a lone "[" (which once hid it).
bool is_kraken(std::string_view v) { return v == "kraken"; }  // "kraken" in a comment is fine
const char* url = "wss://ws.kraken.com/v2";                   // not a name on its own
