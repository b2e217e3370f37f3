// A file clang-format would write differently: the format check must name it.
int  planted( int a ){return a;}
