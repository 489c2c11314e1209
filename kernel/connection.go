package kernel

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
)

// connectionInfo is the Jupyter connection file a kernel is started with.
type connectionInfo struct {
	Transport       string `json:"transport"`
	IP              string `json:"ip"`
	ShellPort       int    `json:"shell_port"`
	IOPubPort       int    `json:"iopub_port"`
	StdinPort       int    `json:"stdin_port"`
	ControlPort     int    `json:"control_port"`
	HBPort          int    `json:"hb_port"`
	SignatureScheme string `json:"signature_scheme"`
	Key             string `json:"key"`
	KernelName      string `json:"kernel_name"`
}

// endpoint returns the ZeroMQ address of a port of this connection. For the
// ipc transport, Jupyter's convention (which GoNB follows) makes IP a path
// prefix and each "port" a suffix: ipc://<IP>-<port> is a Unix socket.
func (c *connectionInfo) endpoint(port int) string {
	if c.Transport == "ipc" {
		return fmt.Sprintf("ipc://%s-%d", c.IP, port)
	}
	return fmt.Sprintf("tcp://%s:%d", c.IP, port)
}

// maxSocketPath is the longest Unix socket path Linux and macOS accept
// (sun_path holds 108 and 104 bytes with the final NUL).
const maxSocketPath = 103

// newIPCConnectionInfo returns a connection over Unix sockets inside dir (a
// 0700 folder), so that no other user can reach the kernel: it neither reads
// another user's cell outputs nor accepts their messages. ok is false when
// dir's path is too long for a socket address (see ipcConnection).
func newIPCConnectionInfo(dir string) (c *connectionInfo, ok bool) {
	prefix := filepath.Join(dir, "zmq")
	if len(prefix)+len("-5") > maxSocketPath {
		return nil, false
	}
	return &connectionInfo{
		Transport: "ipc", IP: prefix,
		ShellPort: 1, IOPubPort: 2, StdinPort: 3, ControlPort: 4, HBPort: 5,
		SignatureScheme: "hmac-sha256", Key: newID() + newID(), KernelName: "gonb",
	}, true
}

// freePorts returns n distinct TCP ports on 127.0.0.1 that were free a moment
// ago (all are held open together, so they are distinct, then released).
func freePorts(n int) ([]int, error) {
	ls := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("kernel: find a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// newConnectionInfo returns a connection on 127.0.0.1 with random free ports
// and a fresh random HMAC-SHA256 key; any local process can connect to those
// ports, so it is used only when Options.TCP asks for it.
func newConnectionInfo() (*connectionInfo, error) {
	ports, err := freePorts(5)
	if err != nil {
		return nil, err
	}
	return &connectionInfo{
		Transport:       "tcp",
		IP:              "127.0.0.1",
		ShellPort:       ports[0],
		IOPubPort:       ports[1],
		StdinPort:       ports[2],
		ControlPort:     ports[3],
		HBPort:          ports[4],
		SignatureScheme: "hmac-sha256",
		Key:             newID() + newID(),
		KernelName:      "gonb",
	}, nil
}

// write saves the connection file as dir/kernel-<id>.json with mode 0600
// (it holds the signing key) and returns its path. GoNB reads the kernel id
// from that file name.
func (c *connectionInfo) write(dir, id string) (string, error) {
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return "", fmt.Errorf("kernel: marshal connection file: %w", err)
	}
	path := filepath.Join(dir, "kernel-"+id+".json")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("kernel: create connection file: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return "", fmt.Errorf("kernel: write connection file: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("kernel: close connection file: %w", err)
	}
	return path, nil
}
