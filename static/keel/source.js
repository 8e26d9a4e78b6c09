// Bring the cited passage into view.
document.getElementById("cited").scrollIntoView({ block: "center" });
