package api

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/text"
)

// checkBodyText refuses a request body whose text encoding/json would
// silently alter: invalid UTF-8 and lone UTF-16 surrogates (decoded as
// U+FFFD), and NUL characters, which no text column can hold. The 422
// problem names the field. Bodies that are not JSON are left to huma.
func checkBodyText(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || isImport(r) {
			// A CSV import checks the text of each row itself.
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				writeProblem(w, r, newProblem(http.StatusRequestEntityTooLarge, "", err))
				return
			}
			writeProblem(w, r, newProblem(http.StatusBadRequest, "reading the request body failed"))
			return
		}
		_ = r.Body.Close()
		if err := text.CheckJSON(body); err != nil {
			writeProblem(w, r, ToProblem(r.Context(), err))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// checkParams refuses path, query and header parameters that are not text
// the read models can hold or compare: invalid UTF-8 ("%FF") or NUL
// ("%00"), with a 422 problem naming the parameter.
func checkParams(hapi huma.API) func(huma.Context, func(huma.Context)) {
	return func(hctx huma.Context, next func(huma.Context)) {
		var v domain.Validator
		var query map[string][]string
		for _, p := range hctx.Operation().Parameters {
			var values []string
			switch p.In {
			case "path":
				values = []string{hctx.Param(p.Name)}
			case "query":
				if query == nil {
					u := hctx.URL()
					query = u.Query()
				}
				values = query[p.Name]
			case "header":
				values = []string{hctx.Header(p.Name)}
			}
			for _, s := range values {
				if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
					v.Add(p.In+"."+p.Name, "must be valid UTF-8 text without NUL characters")
					break
				}
			}
		}
		if err := v.Err(); err != nil {
			writeHumaProblem(hapi, hctx, ToProblem(hctx.Context(), err))
			return
		}
		next(hctx)
	}
}
