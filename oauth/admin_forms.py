"""The forms and formsets of the oauth admin: they check what the services would refuse, so that
staff see a form error rather than a server error."""

from django import forms

from .keys import fingerprint, load_public_key
from .models import MAX_PUBLIC_KEYS, IntegrationKey


def _kept(formset):
    """The forms that stay after the submission: filled in, not marked for deletion."""
    return [
        form for form in formset.forms if form.cleaned_data and not form.cleaned_data.get("DELETE")
    ]


class PublicKeyForm(forms.ModelForm):
    """A new key is parsed (load_public_key): a private key, garbage or a short or non-RSA key
    is a form error. A registered key is shown, never edited: remove it and add another."""

    class Meta:
        model = IntegrationKey
        fields = ["public_key"]
        widgets = {"public_key": forms.Textarea(attrs={"rows": 4, "cols": 66, "class": "pem"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["public_key"].disabled = True

    def clean_public_key(self):
        pem = self.cleaned_data["public_key"]
        if self.instance.pk is None:
            self.key_fingerprint = fingerprint(load_public_key(pem))
        else:
            self.key_fingerprint = self.instance.fingerprint
        return pem


class PublicKeyFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        kept = _kept(self)
        if len(kept) > MAX_PUBLIC_KEYS:
            raise forms.ValidationError(
                f"An integration has at most {MAX_PUBLIC_KEYS} RSA public keys: remove one first."
            )
        prints = [form.key_fingerprint for form in kept]
        if len(prints) != len(set(prints)):
            raise forms.ValidationError("The same public key is given twice.")


class GrantFormSet(forms.BaseInlineFormSet):
    """Refuses a role granted twice (the database would refuse it with a 500). The formset holds
    every grant of its holder (a user, or the integration itself), so this covers them all."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        grants = [
            (form.cleaned_data.get("account"), form.cleaned_data.get("role"))
            for form in _kept(self)
        ]
        if len(grants) != len(set(grants)):
            raise forms.ValidationError("The same role on the same account is granted twice.")
