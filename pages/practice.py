"""Placeholder, being written."""

import streamlit as st

from csc import ui

v = ui.require("practice")
st.title("practice")
