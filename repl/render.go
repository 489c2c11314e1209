package repl

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"image"
	"image/color/palette"
	"image/draw"
	"image/png"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/BourgeoisBear/rasterm"
	"github.com/convnotes/convnotes/kernel"
)

// ImageMode says how images are shown.
type ImageMode string

// Image modes.
const (
	// ImagesFiles writes images to files and prints their paths.
	ImagesFiles ImageMode = "files"
	// ImagesKitty draws inline with the kitty graphics protocol.
	ImagesKitty ImageMode = "kitty"
	// ImagesITerm draws inline with the iTerm2 inline images protocol.
	ImagesITerm ImageMode = "iterm"
	// ImagesSixel draws inline as DEC sixels.
	ImagesSixel ImageMode = "sixel"
)

// DetectImageMode picks how to show images on the terminal: $CONVNOTES_IMAGES
// when set (files, kitty, iterm or sixel), files when not interactive or
// inside tmux/screen (which do not pass the protocols through), else kitty,
// iTerm2 or sixel as the terminal supports (rasterm), else files.
func DetectImageMode(interactive bool) ImageMode {
	switch m := ImageMode(strings.ToLower(os.Getenv("CONVNOTES_IMAGES"))); m {
	case ImagesFiles, ImagesKitty, ImagesITerm, ImagesSixel:
		return m
	}
	if !interactive || rasterm.IsTmuxScreen() || os.Getenv("TMUX") != "" {
		return ImagesFiles
	}
	switch {
	case rasterm.IsKittyCapable():
		return ImagesKitty
	case rasterm.IsItermCapable():
		return ImagesITerm
	}
	if ok, err := rasterm.IsSixelCapable(); err == nil && ok {
		return ImagesSixel
	}
	return ImagesFiles
}

// renderer prints kernel outputs on the terminal.
type renderer struct {
	out, errOut io.Writer
	st          style
	width       int
	images      ImageMode
	imageDir    string // empty: the user's private folder (see imageFolder)
	imageReady  bool   // imageDir exists
	nImages     int
	// stderrTail is the end of what the current cell wrote on stderr: GoNB
	// both prints "exit status N" there and reports it as the cell's error,
	// which is then not printed a second time.
	stderrTail string
}

// stderrTailLen bounds renderer.stderrTail.
const stderrTailLen = 512

// startCell forgets the previous cell's stderr.
func (r *renderer) startCell() { r.stderrTail = "" }

// output renders one kernel output.
func (r *renderer) output(o kernel.Output) {
	switch o.Type {
	case kernel.OutputStream:
		w := r.out
		if o.Name == "stderr" {
			w = r.errOut
			r.stderrTail += o.Text
			if n := len(r.stderrTail); n > stderrTailLen {
				r.stderrTail = r.stderrTail[n-stderrTailLen:]
			}
		}
		_, _ = io.WriteString(w, o.Text)
	case kernel.OutputDisplayData, kernel.OutputUpdateDisplayData, kernel.OutputExecuteResult:
		r.bundle(o.Data)
	case kernel.OutputError:
		text := strings.Join(o.Traceback, "\n")
		if strings.TrimSpace(text) == "" {
			text = o.EName + ": " + o.EValue
		}
		said := strings.TrimSpace(stripANSI(r.stderrTail))
		if t := strings.TrimSpace(stripANSI(text)); t != "" && (strings.HasSuffix(said, "\n"+t) || said == t) {
			return // already on the terminal, from stderr
		}
		if v := strings.TrimSpace(o.EValue); v != "" && len(o.Traceback) == 0 && (strings.HasSuffix(said, "\n"+v) || said == v) {
			return
		}
		fmt.Fprintf(r.errOut, "%s\n", strings.TrimRight(text, "\n"))
	case kernel.OutputClearOutput:
		// A terminal cannot take back what it printed: nothing to do.
	}
}

// bundle renders the richest representation of a MIME bundle a terminal can show.
func (r *renderer) bundle(data map[string]any) {
	str := func(mime string) (string, bool) {
		v, ok := data[mime]
		if !ok {
			return "", false
		}
		switch x := v.(type) {
		case string:
			return x, true
		case []any:
			var b strings.Builder
			for _, p := range x {
				s, _ := p.(string)
				b.WriteString(s)
			}
			return b.String(), true
		}
		return "", false
	}
	if s, ok := str("image/png"); ok {
		r.image(s)
		return
	}
	if s, ok := str("image/svg+xml"); ok {
		r.saveFile("svg", []byte(s))
		return
	}
	if s, ok := str("text/markdown"); ok {
		fmt.Fprintln(r.out, renderMarkdown(s, r.st, r.width))
		return
	}
	if s, ok := str("text/html"); ok {
		fmt.Fprintln(r.out, htmlToText(s))
		return
	}
	if s, ok := str("text/plain"); ok {
		fmt.Fprintln(r.out, strings.TrimRight(s, "\n"))
	}
}

// image shows a base64 PNG inline, or saves it and prints the path.
func (r *renderer) image(b64 string) {
	data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		fmt.Fprintf(r.errOut, "[image: undecodable PNG: %v]\n", err)
		return
	}
	switch r.images {
	case ImagesKitty:
		err = rasterm.KittyCopyPNGInline(r.out, bytes.NewReader(data), rasterm.KittyImgOpts{})
	case ImagesITerm:
		err = rasterm.ItermCopyFileInline(r.out, bytes.NewReader(data), int64(len(data)))
	case ImagesSixel:
		var img image.Image
		if img, err = png.Decode(bytes.NewReader(data)); err == nil {
			p := image.NewPaletted(img.Bounds(), palette.Plan9)
			draw.FloydSteinberg.Draw(p, img.Bounds(), img, img.Bounds().Min)
			err = rasterm.SixelWriteImage(r.out, p)
		}
	default:
		r.saveFile("png", data)
		return
	}
	if err != nil {
		fmt.Fprintf(r.errOut, "[inline image failed: %v]\n", err)
		r.saveFile("png", data)
		return
	}
	fmt.Fprintln(r.out)
}

var (
	htmlDrop  = regexp.MustCompile(`(?is)<(script|style)[^>]*>.*?</(script|style)>`)
	htmlBreak = regexp.MustCompile(`(?i)<br\s*/?>|</(p|div|h[1-6]|tr|li|pre|table|ul|ol)>`)
	htmlItem  = regexp.MustCompile(`(?i)<li[^>]*>`)
	htmlCell  = regexp.MustCompile(`(?i)</t[dh]>`)
	htmlImg   = regexp.MustCompile(`(?i)<img[^>]*>`)
	htmlTag   = regexp.MustCompile(`<[^>]*>`)
	blankRuns = regexp.MustCompile(`\n{3,}`)
)

// htmlToText shows HTML output as text: block ends become line breaks,
// list items bullets, table cells are separated, tags are dropped and
// entities decoded.
func htmlToText(s string) string {
	s = htmlDrop.ReplaceAllString(s, "")
	s = htmlImg.ReplaceAllString(s, "[image]")
	s = htmlItem.ReplaceAllString(s, "• ")
	s = htmlCell.ReplaceAllString(s, " | ")
	s = htmlBreak.ReplaceAllString(s, "\n")
	s = htmlTag.ReplaceAllString(s, "")
	s = html.UnescapeString(s)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	return strings.TrimSpace(blankRuns.ReplaceAllString(strings.Join(lines, "\n"), "\n\n"))
}

// stripANSI removes ANSI escape sequences.
func stripANSI(s string) string { return ansiSeq.ReplaceAllString(s, "") }
