from django import forms

from assistant.models import (
    EvalRun,
)

MAX_CASES_FILE_BYTES = 5_000_000  # some ten thousand cases


class EvaluationStartForm(forms.Form):
    suite = forms.ChoiceField(choices=EvalRun.Suite.choices, initial=EvalRun.Suite.ALL)
    policy = forms.ChoiceField(
        choices=[("live", "The version in force"), ("draft", "The draft being edited")],
        initial="live",
    )
    judged = forms.BooleanField(
        required=False,
        label="Also score faithfulness with the LLM (LLM-as-judge)",
        help_text="A model's opinion, shown apart from the measured figures.",
    )


class CasesImportForm(forms.Form):
    file = forms.FileField(
        label="Test cases (JSON lines)",
        help_text="One JSON object per line, as the export writes them. All or nothing.",
    )

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_CASES_FILE_BYTES:
            raise forms.ValidationError(f"The file is over {MAX_CASES_FILE_BYTES // 1_000_000} MB.")
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise forms.ValidationError("The file is not UTF-8 text.") from error
