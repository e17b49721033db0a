#ifndef NETNSD_VERSION_H
#define NETNSD_VERSION_H
#define NETNSD_VERSION "0.1.0"
#endif
