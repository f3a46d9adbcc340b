// A "Copy" button next to a read-only value (the integration key, a user id): copies the value.
// Without the asynchronous clipboard (or when it is refused), the value is selected and copied.
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  event.preventDefault();
  const done = () => {
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = "Copy"; }, 1500);
  };
  const selectAndCopy = () => {
    button.parentElement.querySelector("input").select();
    if (document.execCommand("copy")) done();
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(button.dataset.copy).then(done, selectAndCopy);
  } else {
    selectAndCopy();
  }
});
