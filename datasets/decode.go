package datasets

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"runtime"
	"sync"
	"sync/atomic"
)

// u8 maps a byte to its value scaled to [0,1].
var u8 = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i) / 255
	}
	return t
}()

// imageJob is one image file to decode, named inside a root.
type imageJob struct {
	name  string
	label int32
}

// decodeImages decodes the image files of jobs, in parallel, into one NHWC float32 slice
// with c channels (3: RGB, 1: grayscale). All images must have the size of the first one,
// which is returned as h, w. Errors name the file; when several files are bad, the error
// of the first one in jobs order is returned, so the result does not depend on scheduling.
func decodeImages(r root, jobs []imageJob, c, workers int) (images []float32, h, w int, err error) {
	if len(jobs) == 0 {
		return nil, 0, 0, nil
	}
	first, err := r.readFile(jobs[0].name)
	if err != nil {
		return nil, 0, 0, err
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(first))
	if err != nil {
		return nil, 0, 0, fmt.Errorf("datasets: decode %s: %w", r.show(jobs[0].name), err)
	}
	h, w = cfg.Height, cfg.Width
	if h <= 0 || w <= 0 {
		return nil, 0, 0, r.errorf(jobs[0].name, "empty image (%dx%d)", w, h)
	}
	size := h * w * c
	images = make([]float32, len(jobs)*size)
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	workers = max(1, min(workers, len(jobs)))

	const chunk = 64 // images a worker takes at a time
	// A collection is started every gcEvery images: decoding makes about as much garbage as
	// the images it fills, and with the large live image slice the heap would otherwise grow
	// far past it before the next automatic GC, paying page faults on fresh memory
	// (TinyImageNet on 2 cores: 86 s -> 55 s, peak RSS 7.8 -> 5.5 GB).
	const gcEvery = 128 * chunk
	var (
		next    atomic.Int64
		failed  atomic.Bool
		mu      sync.Mutex
		errIdx  = len(jobs)
		errMsg  error
		wg      sync.WaitGroup
		sizeRef = r.show(jobs[0].name)
	)
	fail := func(i int, e error) {
		mu.Lock()
		if i < errIdx {
			errIdx, errMsg = i, e
		}
		mu.Unlock()
		failed.Store(true)
	}
	for range workers {
		wg.Go(func() {
			for !failed.Load() {
				start := int(next.Add(chunk)) - chunk
				if start >= len(jobs) {
					return
				}
				if start > 0 && start%gcEvery == 0 {
					go runtime.GC()
				}
				for i := start; i < min(start+chunk, len(jobs)); i++ {
					b, err := r.readFile(jobs[i].name)
					if err != nil {
						fail(i, err)
						return
					}
					img, err := decodeImage(b)
					if err != nil {
						fail(i, fmt.Errorf("datasets: decode %s: %w", r.show(jobs[i].name), err))
						return
					}
					if bw, bh := img.Bounds().Dx(), img.Bounds().Dy(); bw != w || bh != h {
						fail(i, r.errorf(jobs[i].name, "image is %dx%d, want %dx%d like %s", bw, bh, w, h, sizeRef))
						return
					}
					toFloat(img, images[i*size:(i+1)*size], c)
				}
			}
		})
	}
	wg.Wait()
	if errMsg != nil {
		return nil, 0, 0, errMsg
	}
	return images, h, w, nil
}

// decodeImage decodes a JPEG or PNG (or any registered format). JPEG and PNG are decoded
// directly, sparing the buffering image.Decode adds to sniff the format.
func decodeImage(b []byte) (image.Image, error) {
	switch {
	case len(b) > 2 && b[0] == 0xff && b[1] == 0xd8:
		return jpeg.Decode(bytes.NewReader(b))
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return png.Decode(bytes.NewReader(b))
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	return img, err
}

// gray8 is the luminance of an 8-bit RGB colour, with the weights of color.GrayModel.
func gray8(r, g, b uint8) uint8 {
	return uint8((19595*uint32(r) + 38470*uint32(g) + 7471*uint32(b) + 1<<15) >> 16)
}

// toFloat writes img (whose size matches dst) into dst as HWC values in [0,1] with c
// channels: grayscale images are replicated to RGB when c is 3, colour images reduced to
// their luminance when c is 1; alpha is dropped (non-premultiplied colour kept).
func toFloat(img image.Image, dst []float32, c int) {
	b := img.Bounds()
	k := 0
	put := func(r, g, bl uint8) {
		if c == 1 {
			dst[k] = u8[gray8(r, g, bl)]
			k++
			return
		}
		dst[k], dst[k+1], dst[k+2] = u8[r], u8[g], u8[bl]
		k += 3
	}
	switch m := img.(type) {
	case *image.YCbCr:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				yy := m.Y[m.YOffset(x, y)]
				if c == 1 {
					dst[k] = u8[yy]
					k++
					continue
				}
				ci := m.COffset(x, y)
				put(color.YCbCrToRGB(yy, m.Cb[ci], m.Cr[ci]))
			}
		}
	case *image.Gray:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, y):]
			for x := range b.Dx() {
				v := u8[row[x]]
				for range c {
					dst[k] = v
					k++
				}
			}
		}
	case *image.NRGBA:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, y):]
			for x := range b.Dx() {
				put(row[4*x], row[4*x+1], row[4*x+2])
			}
		}
	case *image.RGBA:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, y):]
			for x := range b.Dx() {
				p := row[4*x : 4*x+4]
				if p[3] == 255 {
					put(p[0], p[1], p[2])
				} else {
					n := color.NRGBAModel.Convert(color.RGBA{p[0], p[1], p[2], p[3]}).(color.NRGBA)
					put(n.R, n.G, n.B)
				}
			}
		}
	default: // paletted, 16-bit, CMYK, ...: keep 16-bit precision
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				n := color.NRGBA64Model.Convert(img.At(x, y)).(color.NRGBA64)
				if c == 1 {
					g := color.Gray16Model.Convert(color.NRGBA64{n.R, n.G, n.B, 0xffff}).(color.Gray16)
					dst[k] = float32(g.Y) / 65535
					k++
					continue
				}
				dst[k], dst[k+1], dst[k+2] = float32(n.R)/65535, float32(n.G)/65535, float32(n.B)/65535
				k += 3
			}
		}
	}
}
