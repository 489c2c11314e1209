// Package jupyter drives a real Jupyter server the way a browser does, to test the project's kernel where
// users run it: Debian's Jupyter Notebook 6.4 (jupyter_server's protocol, jupyter_client 7.4) started headless on
// 127.0.0.1 with a private data folder that holds the project's kernelspec (kernel.InstallKernelSpec), kernels
// started through the REST API (/api/sessions, /api/kernels) and spoken to over the server's websocket channels
// (/api/kernels/ID/channels), interrupted and restarted through the REST API.
//
// A Kernel collects, for every request it sends, the reply and every iopub message of that request up to its
// idle status, so a test can require that nothing was lost. Restart does what the notebook page does: it closes
// the websocket, asks the server to restart the kernel and connects again; the server's kernel_info "nudge" on a
// new connection makes sure the iopub subscription is live before the first request.
//
// The package knows nothing about models; it is the test harness of the kernelspec, the server test and the
// browser test (go test ./jupyter).
package jupyter
