package opportunity

import (
	"slices"
	"strconv"
	"strings"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/text"
)

// Stage is one step of a sales pipeline, with the probability (percent) that
// an opportunity at that stage is won.
type Stage struct {
	Name        string `json:"name"`
	Probability int    `json:"probability"`
}

// Pipeline is an ordered list of open stages. Won and lost are not stages:
// they are outcomes, reached only with WinOpportunity and LoseOpportunity.
// An opportunity records the pipeline it was opened in, so changing a
// pipeline's configuration later does not change the rules (or the
// probabilities) of opportunities already open in it.
type Pipeline struct {
	Name   string  `json:"name"`
	Stages []Stage `json:"stages"`
}

// Reserved names that can never be stages.
const (
	OutcomeWon  = "won"
	OutcomeLost = "lost"
)

// MaxStages bounds a pipeline's length.
const MaxStages = 20

// DefaultPipeline is used when OpenOpportunity names no pipeline.
func DefaultPipeline() Pipeline {
	return Pipeline{Name: "default", Stages: []Stage{
		{Name: "qualification", Probability: 10},
		{Name: "needs_analysis", Probability: 25},
		{Name: "proposal", Probability: 50},
		{Name: "negotiation", Probability: 75},
	}}
}

// IsZero reports whether p is the empty pipeline.
func (p Pipeline) IsZero() bool { return p.Name == "" && len(p.Stages) == 0 }

// Validate checks the pipeline's shape into v, under prefix ("pipeline"):
// a slug name; 1 to MaxStages stages with unique slug names other than won
// and lost; probabilities from 0 to 100. Stages may move in any order
// between them, so probabilities need not increase.
func (p Pipeline) Validate(v *domain.Validator, prefix string) {
	text.Slug(v, prefix+".name", p.Name, true)
	if len(p.Stages) == 0 || len(p.Stages) > MaxStages {
		v.Add(prefix+".stages", "must have 1 to "+strconv.Itoa(MaxStages)+" stages")
		return
	}
	for i, s := range p.Stages {
		f := prefix + ".stages[" + strconv.Itoa(i) + "]"
		switch {
		case s.Name == OutcomeWon || s.Name == OutcomeLost:
			v.Add(f+".name", "won and lost are outcomes, not stages")
		case slices.ContainsFunc(p.Stages[:i], func(o Stage) bool { return o.Name == s.Name }):
			v.Add(f+".name", "appears twice")
		default:
			text.Slug(v, f+".name", s.Name, true)
		}
		v.Require(f+".probability", s.Probability >= 0 && s.Probability <= 100, "must be between 0 and 100")
	}
}

// Stage returns the stage with that name.
func (p Pipeline) Stage(name string) (Stage, bool) {
	i := p.Index(name)
	if i < 0 {
		return Stage{}, false
	}
	return p.Stages[i], true
}

// Index returns the position of a stage (0 first), or -1.
func (p Pipeline) Index(name string) int {
	return slices.IndexFunc(p.Stages, func(s Stage) bool { return s.Name == name })
}

// checkTarget validates a move to stage name into v under field: it must be
// a stage of the pipeline, and not an outcome.
func (p Pipeline) checkTarget(v *domain.Validator, field, name string) {
	switch {
	case name == OutcomeWon || name == OutcomeLost:
		v.Add(field, "won and lost are outcomes: use WinOpportunity or LoseOpportunity")
	case p.Index(name) < 0:
		names := make([]string, len(p.Stages))
		for i, s := range p.Stages {
			names[i] = s.Name
		}
		v.Add(field, strconv.Quote(name)+" is not a stage of pipeline "+strconv.Quote(p.Name)+" (allowed: "+strings.Join(names, ", ")+")")
	}
}

func (p Pipeline) clone() Pipeline {
	p.Stages = slices.Clone(p.Stages)
	return p
}
