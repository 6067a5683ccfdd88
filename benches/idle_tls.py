"""RSS of N idle connections, plain or TLS, each after one request.

Usage (from the project root, after cargo build --release): python3 benches/idle_tls.py 10000 https
"""
import os, socket, ssl, subprocess, sys, tempfile, time, resource, re
resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],)*2)
N = int(sys.argv[1]); scheme = sys.argv[2]
root = tempfile.mkdtemp(); open(os.path.join(root, 'small.txt'), 'w').write('small\n')
pem = os.path.join(root, 'cert.pem')
args = [os.environ.get('SPINDLE_BIN', 'target/release/spindle'), '-q', '-b', '127.0.0.1:0', '--max-connections', '20000', '--keep-alive-timeout', '600', root]
if scheme == 'https': args[2:2] = ['--tls-self-signed', '--tls-self-signed-out', pem]
p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],)*2))
port = int(re.search(rb':(\d+)/', p.stdout.readline()).group(1))
def rss():
    return int(re.search(r'VmRSS:\s+(\d+)', open(f'/proc/{p.pid}/status').read()).group(1))
time.sleep(0.3); before = rss()
ctx = ssl.create_default_context(cafile=pem) if scheme == 'https' else None
conns = []
for i in range(N):
    s = socket.create_connection(('127.0.0.1', port))
    if ctx:
        s = ctx.wrap_socket(s, server_hostname='localhost')
    s.sendall(b'GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n'); s.recv(4096)
    conns.append(s)
time.sleep(1); after = rss()
print(f"{scheme}: {N} idle connections (one request each): RSS {before} KiB -> {after} KiB, {(after-before)*1024/N:.0f} B per connection")
p.kill()
