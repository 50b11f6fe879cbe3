// Package docsui serves the API reference at /docs from assets inside the
// binary: the standalone web-components bundle of Stoplight Elements
// (Apache-2.0, assets/LICENSE), taken from the npm registry by
// scripts/docs-assets.sh (make docs-assets) and committed. The page reads
// the server's own OpenAPI document; nothing is fetched from elsewhere, so
// the reference works on a machine without internet access.
package docsui

import (
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed assets
var assets embed.FS

// Version is the embedded Elements release ("@stoplight/elements 9.0.25").
var Version = func() string {
	b, _ := assets.ReadFile("assets/VERSION")
	return strings.TrimSpace(string(b))
}()

// csp allows only this server: Elements' scripts and styles, and the
// OpenAPI document it fetches (and "try it" requests to the same origin).
const csp = "default-src 'none'; base-uri 'none'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; " +
	"img-src 'self' data:; font-src 'self' data:; script-src 'self'; style-src 'self' 'unsafe-inline'"

var page = template.Must(template.New("docs").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{{.Base}}/assets/styles.min.css?v={{.Version}}">
<script src="{{.Base}}/assets/web-components.min.js?v={{.Version}}"></script>
</head>
<body style="height: 100vh; margin: 0">
<elements-api apiDescriptionUrl="{{.Spec}}" router="hash" layout="sidebar" tryItCredentialsPolicy="same-origin"></elements-api>
<noscript><p>The API reference needs JavaScript. The OpenAPI document is at <a href="{{.Spec}}">{{.Spec}}</a>.</p></noscript>
</body>
</html>
`))

// Handler serves the reference page at base (e.g. "/docs") and its assets
// under base+"/assets/", for the OpenAPI document at spec ("/openapi.json").
// Mount it for base and base+"/*".
func Handler(base, title, spec string) http.Handler {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded directory always exists
	}
	files := http.StripPrefix(base+"/assets/", http.FileServerFS(sub))
	data := struct{ Base, Title, Spec, Version string }{base, title, spec, strings.TrimPrefix(Version, "@stoplight/elements ")}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		switch {
		case r.URL.Path == base:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-cache")
			_ = page.Execute(w, data)
		case strings.HasPrefix(r.URL.Path, base+"/assets/") && !strings.HasSuffix(r.URL.Path, "/"):
			w.Header().Set("Cache-Control", "public, max-age=86400")
			files.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}
