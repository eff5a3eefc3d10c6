// libvpx for Swift. `vpx_codec_enc_init`/`vpx_codec_dec_init` are macros (they pass the ABI
// version) and `vpx_codec_control` is a variadic macro; these wrappers make them callable.
#ifndef SHIHUI_CVPX_SHIM_H
#define SHIHUI_CVPX_SHIM_H
#include <vpx/vpx_encoder.h>
#include <vpx/vpx_decoder.h>
#include <vpx/vp8cx.h>
#include <vpx/vp8dx.h>

static inline vpx_codec_iface_t *shihui_vpx_vp8_encoder(void) { return vpx_codec_vp8_cx(); }
static inline vpx_codec_iface_t *shihui_vpx_vp8_decoder(void) { return vpx_codec_vp8_dx(); }
static inline vpx_codec_err_t shihui_vpx_enc_init(vpx_codec_ctx_t *ctx, const vpx_codec_enc_cfg_t *cfg, vpx_codec_flags_t flags) {
    return vpx_codec_enc_init(ctx, vpx_codec_vp8_cx(), cfg, flags);
}
static inline vpx_codec_err_t shihui_vpx_dec_init(vpx_codec_ctx_t *ctx, const vpx_codec_dec_cfg_t *cfg, vpx_codec_flags_t flags) {
    return vpx_codec_dec_init(ctx, vpx_codec_vp8_dx(), cfg, flags);
}
static inline vpx_codec_err_t shihui_vpx_set_cpuused(vpx_codec_ctx_t *ctx, int v) { return vpx_codec_control(ctx, VP8E_SET_CPUUSED, v); }
static inline vpx_codec_err_t shihui_vpx_set_static_threshold(vpx_codec_ctx_t *ctx, unsigned v) { return vpx_codec_control(ctx, VP8E_SET_STATIC_THRESHOLD, v); }
static inline vpx_codec_err_t shihui_vpx_set_token_partitions(vpx_codec_ctx_t *ctx, int v) { return vpx_codec_control(ctx, VP8E_SET_TOKEN_PARTITIONS, (vp8e_token_partitions)v); }
#endif
