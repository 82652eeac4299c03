"""The forms of the classroom pages; every check names the field it is about."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from playground.models import Scenario
from simulations import KINDS, ScenarioError, validate
from simulations.grading import MAX_GRADED_S, MAX_SEEDS, check_goals

from .models import CODE_ALPHABET, CODE_LENGTH

# When the instructor gives no starting design: a small design that runs as it is (a
# student's copy must save back unchanged) and says what to do. Its one service is too small
# for the traffic on purpose: 200 requests/s at 10 ms on 2 workers is utilisation 1.0.
DEFAULT_BRIEF = {
    "format": "playground.scenario/v1", "name": "Your design", "duration_s": 300,
    "description": (
        "The **Users** send 200 requests a second to one **service** that cannot keep up.\n\n"
        "Change the design until it meets the goals: give the service more `workers`, put "
        "more services behind a **load balancer**, or add a **cache**. Press Play to watch "
        "it, then Submit: grading runs it with the goals' traffic.\n\n"
        "- Keep the client `users`: grading sends the assignment's traffic from it.\n"
        "- Everything else is yours to change."),
    "components": [
        {"id": "users", "kind": "client", "label": "Users", "position": {"x": 80, "y": 200},
         "params": {"rate_rps": 200, "read_ratio": 0.9}},
        {"id": "app", "kind": "service", "label": "App", "position": {"x": 320, "y": 200},
         "params": {"workers": 2, "service_ms": 10}}],
    "links": [{"from": "users", "to": "app"}]}


class ClassroomForm(forms.Form):
    name = forms.CharField(max_length=120, strip=True)


class JoinCodeForm(forms.Form):
    code = forms.CharField(max_length=32, strip=True)

    def clean_code(self) -> str:
        code = re.sub(r"[\s-]", "", self.cleaned_data["code"]).upper()
        wrong = sorted(set(code) - set(CODE_ALPHABET), key=code.index)
        if wrong:
            quoted = [f"“{c}”" for c in wrong]
            chars = " and ".join([", ".join(quoted[:-1]), quoted[-1]] if quoted[:-1] else quoted)
            raise forms.ValidationError(
                f"{chars} {'is' if len(wrong) == 1 else 'are'} never in a join code: codes "
                "use the letters A to Z and the digits 2 to 9, without 0, O, 1, I or L "
                "(they are easy to misread). Check the code with your instructor.")
        if len(code) != CODE_LENGTH:
            raise forms.ValidationError(f"A join code is {CODE_LENGTH} characters; “{code}” "
                                        f"has {len(code)}.")
        return code


class JoinNameForm(forms.Form):
    display_name = forms.CharField(max_length=60, strip=True, label="Your name",
                                   help_text="What your instructor sees next to your work.")


def _share_id(text: str) -> str:
    """A share link (…/s/<id>…) or a bare id."""
    match = re.search(r"/s/([A-Za-z0-9_-]{16,32})", text)
    return match.group(1) if match else text.strip()


class AssignmentForm(forms.Form):
    title = forms.CharField(max_length=200)
    instructions = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False,
                                   max_length=5000)
    brief = forms.CharField(
        required=False, max_length=300, label="Starting design",
        help_text="A share link of a saved design or lesson; its clients are the traffic "
                  "every design is graded under. Empty: users at 200 requests/s calling one "
                  "service that is too small for them.")
    p99_ms_max = forms.FloatField(required=False, min_value=0.001, label="p99 latency at most (ms)")
    success_ratio_min = forms.FloatField(required=False, min_value=0, max_value=1,
                                         label="Success ratio at least (0-1)")
    cost_per_hour_max = forms.FloatField(required=False, min_value=0,
                                         label="Cost at most (per hour)")
    fault_target = forms.CharField(required=False, max_length=64,
                                   label="Fault drill: component that fails",
                                   help_text="An id in the starting design, e.g. db (the "
                                             "default one has users and app).")
    fault_at_s = forms.FloatField(required=False, min_value=0, label="…at (simulated s)")
    allowed_kinds = forms.MultipleChoiceField(
        required=False, choices=[(k, k) for k in KINDS], widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every kind is allowed.")
    max_components = forms.IntegerField(required=False, min_value=1, max_value=500,
                                        label="Budget of components")
    seeds = forms.IntegerField(min_value=1, max_value=MAX_SEEDS, initial=3,
                               label="Seeds (runs per grading)")
    duration_s = forms.FloatField(min_value=10, max_value=MAX_GRADED_S, initial=120,
                                  label="Graded run length (simulated s)")
    deadline = forms.DateTimeField(required=False, widget=forms.DateTimeInput(
        attrs={"type": "datetime-local"}), input_formats=["%Y-%m-%dT%H:%M"])
    peers_visible_after_deadline = forms.BooleanField(
        required=False, label="Students may see each other's designs after the deadline")

    def clean_brief(self) -> dict[str, Any]:
        text = self.cleaned_data["brief"]
        if not text:
            return DEFAULT_BRIEF
        scenario = Scenario.objects.filter(share_id=_share_id(text)).first()
        if scenario is None:
            raise forms.ValidationError("No saved design or lesson has that link.")
        try:  # each student starts from a copy of it, and must be able to save it back
            validate(scenario.document)
        except ScenarioError as exc:
            raise forms.ValidationError(
                [f"“{scenario.title}” cannot run as it is: {line}" for line in exc.errors]
            ) from None
        return scenario.document

    def goals(self) -> dict[str, Any]:
        data = self.cleaned_data
        goals: dict[str, Any] = {
            k: data[k] for k in ("p99_ms_max", "success_ratio_min", "cost_per_hour_max",
                                 "max_components") if data.get(k) is not None}
        if data.get("allowed_kinds"):
            goals["allowed_kinds"] = list(data["allowed_kinds"])
        goals["seeds"] = list(range(1, data["seeds"] + 1))
        goals["duration_s"] = data["duration_s"]
        goals["warmup_s"] = min(10.0, data["duration_s"] / 10)
        if data.get("fault_target"):
            goals["faults"] = [{"at_s": data.get("fault_at_s") or 0.0, "action": "fail",
                                "target": data["fault_target"]}]
        return goals

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        try:
            check_goals(self.goals(), data["brief"])
        except ScenarioError as exc:
            for line in exc.errors:
                self.add_error(None, line)
        return data
