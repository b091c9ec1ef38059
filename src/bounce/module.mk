$(eval $(call program,bounce,libexec,global util))
