// OpenBLAS from Debian's libopenblas-dev (cblas.h carries openblas_* extensions).
#include <cblas.h>
