// A batch of decoded frames -> one model input tensor, in one launch.
//
// One thread per output pixel of one image: grid (ceil(W/16), ceil(H/16), batch). Each
// thread reads its frame's descriptor, maps the pixel back into the frame (letterbox or
// stretch placement computed on the host, as the CPU does), reads the four source pixels
// in the frame's own format (YUV converted per pixel, as the CPU does), blends them
// bilinearly, orders the channels, normalises and writes f32, f16 or u8 in NCHW or NHWC.
//
// The arithmetic is exactly that of runtime/src/engine/preprocess (the CPU path) and of
// runtime/src/gpu/reference.rs (its line-by-line twin in Rust): same sampling
// coordinates (computed in double), same rounding, same order of operations. Compile with
// --fmad=false so that no multiply-add is fused and every result is bit-identical.

#define VPL_I420 0u
#define VPL_NV12 1u
#define VPL_RGB 2u
#define VPL_BGR 3u
#define VPL_RGBX 4u
#define VPL_BGRX 5u
#define VPL_GRAY8 6u

#define VPL_NCHW 0u
#define VPL_NHWC 1u

#define VPL_ORDER_RGB 0u
#define VPL_ORDER_BGR 1u
#define VPL_ORDER_GRAY 2u

#define VPL_F32 0u
#define VPL_F16 1u
#define VPL_U8 2u

#define VPL_PAD 114.0f

// One frame of the batch; 88 bytes, written by runtime/src/gpu/mod.rs
// (FrameDescriptor::to_bytes) in this exact layout.
struct VplFrame {
    unsigned long long planes[3]; // device addresses of the planes' first rows
    double ratio_x;               // source width / placed width
    double ratio_y;               // source height / placed height
    unsigned int strides[3];      // bytes between rows, per plane
    unsigned int format;          // VPL_I420 ...
    unsigned int width;           // frame size in pixels
    unsigned int height;
    unsigned int place_x;         // the picture's place in the model input
    unsigned int place_y;
    unsigned int place_w;
    unsigned int place_h;
    unsigned int reserved[2];
};
// Fields in order of decreasing alignment, so there is no padding: each offset is the sum
// of the sizes before it (ratio_x at 24, strides at 40, format at 52, place_x at 64).
static_assert(sizeof(struct VplFrame) == 88, "VplFrame must be 88 bytes");

// Clamp to 0..=255 and round half up, as frame.rs's quantise.
__device__ __forceinline__ float vpl_quantise(float v) {
    return (float)(unsigned char)(fminf(fmaxf(v, 0.0f), 255.0f) + 0.5f);
}

// BT.601 limited range, chroma from the 2x2 block's sample (frame.rs's yuv_to_rgb).
__device__ __forceinline__ void vpl_yuv(unsigned char y, unsigned char u, unsigned char v,
                                        float rgb[3]) {
    float fy = ((float)y - 16.0f) * 1.16438356f; // 255/219 rounded to f32
    float fu = (float)u - 128.0f;
    float fv = (float)v - 128.0f;
    rgb[0] = vpl_quantise(fy + 1.596027f * fv);
    rgb[1] = vpl_quantise(fy - 0.391762f * fu - 0.812968f * fv);
    rgb[2] = vpl_quantise(fy + 2.017232f * fu);
}

// One source pixel as RGB in 0..=255.
__device__ void vpl_read(const struct VplFrame* f, unsigned int x, unsigned int y,
                         float rgb[3]) {
    const unsigned char* p0 = (const unsigned char*)f->planes[0];
    const unsigned char* p1 = (const unsigned char*)f->planes[1];
    const unsigned char* p2 = (const unsigned char*)f->planes[2];
    switch (f->format) {
    case VPL_I420: {
        unsigned int c = x / 2u;
        vpl_yuv(p0[(size_t)y * f->strides[0] + x], p1[(size_t)(y / 2u) * f->strides[1] + c],
                p2[(size_t)(y / 2u) * f->strides[2] + c], rgb);
        break;
    }
    case VPL_NV12: {
        size_t at = (size_t)(y / 2u) * f->strides[1] + (size_t)(x / 2u) * 2u;
        vpl_yuv(p0[(size_t)y * f->strides[0] + x], p1[at], p1[at + 1], rgb);
        break;
    }
    case VPL_GRAY8: {
        float v = (float)p0[(size_t)y * f->strides[0] + x];
        rgb[0] = v;
        rgb[1] = v;
        rgb[2] = v;
        break;
    }
    default: {
        unsigned int bytes = (f->format == VPL_RGB || f->format == VPL_BGR) ? 3u : 4u;
        unsigned int r = (f->format == VPL_RGB || f->format == VPL_RGBX) ? 0u : 2u;
        size_t at = (size_t)y * f->strides[0] + (size_t)x * bytes;
        rgb[0] = (float)p0[at + r];
        rgb[1] = (float)p0[at + 1u];
        rgb[2] = (float)p0[at + 2u - r];
        break;
    }
    }
}

// OpenCV INTER_LINEAR's tap for output coordinate o (resample.rs's taps).
__device__ __forceinline__ void vpl_tap(unsigned int o, double ratio, unsigned int source,
                                        unsigned int* i0, unsigned int* i1, float* f) {
    double last = (double)(source - 1u);
    double s = ((double)o + 0.5) * ratio - 0.5;
    s = fmin(fmax(s, 0.0), last);
    double fl = floor(s);
    *i0 = (unsigned int)fl;
    *i1 = min(*i0 + 1u, source - 1u);
    *f = (float)(s - (double)*i0);
}

// Round to nearest even f32 -> IEEE half bits (reference.rs's f16_bits).
__device__ unsigned short vpl_f16(float value) {
    unsigned int x = __float_as_uint(value);
    unsigned int sign = (x >> 16) & 0x8000u;
    unsigned int mag = x & 0x7fffffffu;
    if (mag >= 0x7f800000u) {
        unsigned int nan = (mag > 0x7f800000u) ? 0x0200u : 0u;
        return (unsigned short)(sign | 0x7c00u | nan | ((mag & 0x7fffffu) >> 13));
    }
    if (mag >= 0x47800000u) {
        return (unsigned short)(sign | 0x7c00u);
    }
    if (mag >= 0x38800000u) {
        unsigned int h = (mag >> 13) - (112u << 10);
        unsigned int rest = mag & 0x1fffu;
        if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) {
            h += 1u;
        }
        return (unsigned short)(sign | h);
    }
    if (mag < 0x33000000u) {
        return (unsigned short)sign;
    }
    unsigned int e = mag >> 23;
    unsigned int m = (mag & 0x7fffffu) | 0x800000u;
    unsigned int shift = 126u - e;
    unsigned int h = m >> shift;
    unsigned int rest = m & ((1u << shift) - 1u);
    unsigned int half = 1u << (shift - 1u);
    if (rest > half || (rest == half && (h & 1u))) {
        h += 1u;
    }
    return (unsigned short)(sign | h);
}

__device__ __forceinline__ void vpl_store(void* out, size_t index, unsigned int dtype,
                                          float value, float mul, float add) {
    if (dtype == VPL_U8) {
        ((unsigned char*)out)[index] = (unsigned char)fminf(value + 0.5f, 255.0f);
    } else {
        float v = value * mul + add;
        if (dtype == VPL_F16) {
            ((unsigned short*)out)[index] = vpl_f16(v);
        } else {
            ((float*)out)[index] = v;
        }
    }
}

extern "C" __global__ void vpl_preprocess(const struct VplFrame* frames, unsigned int count,
                                          void* out, unsigned int width, unsigned int height,
                                          unsigned int layout, unsigned int order,
                                          unsigned int dtype, float mul0, float mul1,
                                          float mul2, float add0, float add1, float add2) {
    unsigned int ox = blockIdx.x * blockDim.x + threadIdx.x;
    unsigned int oy = blockIdx.y * blockDim.y + threadIdx.y;
    unsigned int n = blockIdx.z;
    if (ox >= width || oy >= height || n >= count) {
        return;
    }
    const struct VplFrame* f = &frames[n];
    float rgb[3];
    if (ox < f->place_x || oy < f->place_y || ox - f->place_x >= f->place_w ||
        oy - f->place_y >= f->place_h) {
        rgb[0] = VPL_PAD;
        rgb[1] = VPL_PAD;
        rgb[2] = VPL_PAD;
    } else {
        unsigned int x0, x1, y0, y1;
        float fx, fy;
        vpl_tap(ox - f->place_x, f->ratio_x, f->width, &x0, &x1, &fx);
        vpl_tap(oy - f->place_y, f->ratio_y, f->height, &y0, &y1, &fy);
        float a[3], b[3], c[3], d[3];
        vpl_read(f, x0, y0, a);
        vpl_read(f, x1, y0, b);
        vpl_read(f, x0, y1, c);
        vpl_read(f, x1, y1, d);
        for (int k = 0; k < 3; ++k) {
            float upper = a[k] * (1.0f - fx) + b[k] * fx;
            float lower = c[k] * (1.0f - fx) + d[k] * fx;
            rgb[k] = upper * (1.0f - fy) + lower * fy;
        }
    }
    unsigned int channels = (order == VPL_ORDER_GRAY) ? 1u : 3u;
    size_t pixels = (size_t)width * height;
    size_t pixel = (size_t)oy * width + ox;
    size_t image = (size_t)n * pixels * channels;
    size_t base = image + ((layout == VPL_NCHW) ? pixel : pixel * channels);
    size_t step = (layout == VPL_NCHW) ? pixels : 1u;
    if (order == VPL_ORDER_GRAY) {
        float gray = 0.299f * rgb[0] + 0.587f * rgb[1] + 0.114f * rgb[2];
        vpl_store(out, base, dtype, gray, mul0, add0);
    } else {
        float first = (order == VPL_ORDER_RGB) ? rgb[0] : rgb[2];
        float last = (order == VPL_ORDER_RGB) ? rgb[2] : rgb[0];
        vpl_store(out, base, dtype, first, mul0, add0);
        vpl_store(out, base + step, dtype, rgb[1], mul1, add1);
        vpl_store(out, base + 2u * step, dtype, last, mul2, add2);
    }
}
