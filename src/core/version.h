/* version.h: the one version string, for `--version`, manifest.json and the
 * report's footer. Bumped by hand with a release; nothing else reads it. */
#ifndef SE_VERSION_H
#define SE_VERSION_H

#define SE_VERSION "0.1.0"

#endif
