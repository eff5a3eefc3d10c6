// shihui-server: placeholder until the signaling issue lands the server (issue 2 allows a stub
// that prints its version and exits). It links every system library so `make run` proves the
// whole native toolchain is installed.
import COpus
import CVPX
import CSQLite
import CTurboJPEG
import MediaCrypto

let version = "0.1.0"
let opus = String(cString: opus_get_version_string())
let vpx = String(cString: vpx_codec_version_str())
let sqlite = String(cString: sqlite3_libversion())
print("shihui-server \(version) (opus: \(opus), vpx: \(vpx), sqlite: \(sqlite), turbojpeg linked)")
print("The media server is not built yet: see the open issues. Exiting.")
