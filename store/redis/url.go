package redisstore

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// parseURL turns Config.URL into go-redis universal options. The forms:
//
//	redis://[user:pass@]host[:port][/db]             one server
//	rediss://…                                       the same over TLS
//	unix://[user:pass@]/path/to/redis.sock[?db=N]    a local socket
//	redis://host:port,host:port[,…]                  Cluster (seed nodes)
//	redis-cluster://host:port                        Cluster from one seed
//	redis-sentinel://host:port,host:port/master[/db] Sentinel (rediss-sentinel for TLS)
//	redis://host:port?master_name=m&addr=host:port   Sentinel, go-redis style
//
// Extra seed addresses may also be given with addr=host:port (repeatable).
// Query parameters: db, addr, master_name, client_name, sentinel_username,
// sentinel_password, pool_size, max_retries, protocol, dial_timeout,
// read_timeout, write_timeout, pool_timeout (Go durations: 300ms). Others are
// refused so that a typo does not go unnoticed. The userinfo authenticates to
// the data nodes; sentinels take sentinel_username/sentinel_password.
func parseURL(raw string) (*redis.UniversalOptions, error) {
	raw, hosts := splitHosts(raw)
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse quotes the whole URL, password included: say less.
		return nil, fmt.Errorf("URL does not parse")
	}
	o := &redis.UniversalOptions{}
	if u.User != nil {
		o.Username = u.User.Username()
		o.Password, _ = u.User.Password()
	}
	tlsOn, sentinel := false, false
	switch u.Scheme {
	case "redis":
	case "rediss":
		tlsOn = true
	case "redis-cluster":
		o.IsClusterMode = true
	case "rediss-cluster":
		o.IsClusterMode, tlsOn = true, true
	case "redis-sentinel":
		sentinel = true
	case "rediss-sentinel":
		sentinel, tlsOn = true, true
	case "unix":
		if u.Path == "" {
			return nil, fmt.Errorf("unix URL needs a socket path")
		}
		o.Addrs = []string{u.Path}
	default:
		return nil, fmt.Errorf("scheme must be redis, rediss, unix, redis-sentinel or redis-cluster, not %q", u.Scheme)
	}

	path := strings.Trim(u.Path, "/")
	if u.Scheme != "unix" {
		if hosts == "" {
			hosts = u.Host
		}
		for h := range strings.SplitSeq(hosts, ",") {
			addr, err := hostPort(h, sentinel)
			if err != nil {
				return nil, err
			}
			o.Addrs = append(o.Addrs, addr)
		}
		var db string
		if sentinel {
			o.MasterName, db, _ = strings.Cut(path, "/")
			if o.MasterName == "" {
				return nil, fmt.Errorf("sentinel URL needs the master name as its path: redis-sentinel://host:26379/mymaster")
			}
		} else {
			db = path
		}
		if db != "" {
			if o.DB, err = strconv.Atoi(db); err != nil || o.DB < 0 {
				return nil, fmt.Errorf("database %q is not a number", db)
			}
		}
	}

	q := u.Query()
	for name, vals := range q {
		v := vals[len(vals)-1]
		var err error
		switch name {
		case "db":
			o.DB, err = strconv.Atoi(v)
		case "addr":
			for _, a := range vals {
				addr, err := hostPort(a, sentinel)
				if err != nil {
					return nil, err
				}
				o.Addrs = append(o.Addrs, addr)
			}
		case "master_name":
			o.MasterName = v
		case "client_name":
			o.ClientName = v
		case "sentinel_username":
			o.SentinelUsername = v
		case "sentinel_password":
			o.SentinelPassword = v
		case "pool_size":
			o.PoolSize, err = strconv.Atoi(v)
		case "max_retries":
			o.MaxRetries, err = strconv.Atoi(v)
		case "protocol":
			o.Protocol, err = strconv.Atoi(v)
		case "dial_timeout":
			o.DialTimeout, err = time.ParseDuration(v)
		case "read_timeout":
			o.ReadTimeout, err = time.ParseDuration(v)
		case "write_timeout":
			o.WriteTimeout, err = time.ParseDuration(v)
		case "pool_timeout":
			o.PoolTimeout, err = time.ParseDuration(v)
		default:
			return nil, fmt.Errorf("unknown query parameter %q", name)
		}
		if err != nil {
			return nil, fmt.Errorf("query parameter %s: %q is not valid", name, v)
		}
	}
	if u.Scheme == "unix" && (len(o.Addrs) > 1 || o.MasterName != "") {
		return nil, fmt.Errorf("a unix socket URL names one server")
	}
	if o.MasterName != "" && o.IsClusterMode {
		return nil, fmt.Errorf("a URL is either Sentinel or Cluster, not both")
	}
	if tlsOn {
		// ServerName is left empty: the TLS dialer takes it from each
		// address, which is what Cluster and Sentinel need.
		o.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return o, nil
}

// splitHosts takes a comma-separated host list out of a URL, which url.Parse
// would refuse, and puts one placeholder host in its place.
func splitHosts(raw string) (string, string) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw, ""
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndex(rest[:end], "@") + 1
	hosts := rest[at:end]
	if !strings.Contains(hosts, ",") {
		return raw, ""
	}
	return scheme + "://" + rest[:at] + "hosts" + rest[end:], hosts
}

// hostPort checks one address and adds the default port (26379 for a
// sentinel, 6379 otherwise).
func hostPort(s string, sentinel bool) (string, error) {
	if s == "" {
		return "", fmt.Errorf("URL needs a host")
	}
	port := "6379"
	if sentinel {
		port = "26379"
	}
	host, p, err := net.SplitHostPort(s)
	if err != nil {
		// No port given (or a bare IPv6 literal in brackets).
		host, p = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"), port
	}
	if host == "" {
		return "", fmt.Errorf("address %q needs a host", s)
	}
	if n, err := strconv.Atoi(p); err != nil || n <= 0 || n > 65535 {
		return "", fmt.Errorf("address %q has no valid port", s)
	}
	return net.JoinHostPort(host, p), nil
}

// mode names the kind of client the options select, for the start-up log.
func mode(o *redis.UniversalOptions) string {
	switch {
	case o.MasterName != "":
		return "sentinel"
	case len(o.Addrs) > 1 || o.IsClusterMode:
		return "cluster"
	default:
		return "standalone"
	}
}
