// libjpeg-turbo's TurboJPEG API for Swift (imports as is).
#ifndef SHIHUI_CTURBOJPEG_SHIM_H
#define SHIHUI_CTURBOJPEG_SHIM_H
#include <turbojpeg.h>
#endif
