$(eval $(call program,master,libexec,global util))
