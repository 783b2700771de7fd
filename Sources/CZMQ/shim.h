// libzmq from Debian's libzmq3-dev. pkgConfig is omitted on purpose: its -isystem flag is rejected by SwiftPM.
#include <zmq.h>
