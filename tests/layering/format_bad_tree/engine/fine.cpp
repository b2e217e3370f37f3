// A file as clang-format writes it: not reported.
int fine(int a) { return a; }
