package repl

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/convnotes/convnotes/kernel"
)

// defaultImageDirName is the name, in the temporary folder, of the folder
// that receives the images the terminal cannot draw, one per user.
func defaultImageDirName() string {
	return "convnotes-repl-images-" + strconv.Itoa(os.Geteuid())
}

// imageFolder returns the folder images are saved in, making it on first
// use: the configured one (created 0700 if missing), or this user's private
// folder in the temporary folder (0700, owned by the user, never a link). If
// another user holds that folder's name, a fresh private folder is made
// instead, and the reason printed.
func (r *renderer) imageFolder() (string, error) {
	if r.imageReady {
		return r.imageDir, nil
	}
	if r.imageDir != "" {
		if err := os.MkdirAll(r.imageDir, 0o700); err != nil {
			return "", err
		}
		r.imageReady = true
		return r.imageDir, nil
	}
	dir, err := kernel.PrivateDir(os.TempDir(), defaultImageDirName())
	if errors.Is(err, kernel.ErrNotPrivate) {
		fresh, ferr := os.MkdirTemp("", defaultImageDirName()+"-")
		if ferr != nil {
			return "", ferr
		}
		fmt.Fprintf(r.errOut, "[images: %v; saving them in %s]\n", err, fresh)
		dir, err = fresh, nil
	}
	if err != nil {
		return "", err
	}
	r.imageDir, r.imageReady = dir, true
	return dir, nil
}

// saveFile writes an image to the image folder as a new file (mode 0600,
// never through a symbolic link or over an existing file) and prints its path.
func (r *renderer) saveFile(ext string, data []byte) {
	dir, err := r.imageFolder()
	if err != nil {
		fmt.Fprintf(r.errOut, "[image not saved: %v]\n", err)
		return
	}
	for range 10000 {
		r.nImages++
		path := filepath.Join(dir, fmt.Sprintf("image-%03d.%s", r.nImages, ext))
		f, err := kernel.CreatePrivateFile(path)
		if errors.Is(err, fs.ErrExist) {
			continue // from an earlier session, or not ours: the next number
		}
		if err == nil {
			_, err = f.Write(data)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintf(r.errOut, "[image not saved: %v]\n", err)
			return
		}
		fmt.Fprintf(r.out, "[image: %s]\n", path)
		return
	}
	fmt.Fprintf(r.errOut, "[image not saved: no free file name in %s]\n", dir)
}
